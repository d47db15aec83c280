from datetime import timedelta

from api.commands import start_case
from domain.policy import load_policy
from tests.helpers import notice
from workflows.case import CaseWorkflow


async def test_smoke(env, client, task_queue):
    now = await env.get_current_time()
    n = notice(now.date())
    receipt = await start_case(client, n, policy=load_policy(), task_queue=task_queue)
    assert receipt.created
    again = await start_case(client, n, policy=load_policy(), task_queue=task_queue)
    assert not again.created
    h = client.get_workflow_handle_for(CaseWorkflow.run, n.case_id)
    st = await h.query(CaseWorkflow.state)
    print([(t.key, t.due) for t in st.tasks])
    await env.sleep(timedelta(days=8))
    st = await h.query(CaseWorkflow.state)
    print([(t.key, t.escalation_level, t.overdue) for t in st.tasks], st.notifications)
