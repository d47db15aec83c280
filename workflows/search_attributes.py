"""Search attributes of a case: pseudonymous figures only (Temporal stores them unencrypted)."""

from temporalio.common import SearchAttributeKey

MUNICIPALITY = SearchAttributeKey.for_keyword("ReentryMunicipality")
PHASE = SearchAttributeKey.for_keyword("ReentryPhase")
EXPECTED_RELEASE = SearchAttributeKey.for_datetime("ReentryExpectedRelease")
OVERDUE_COUNT = SearchAttributeKey.for_int("ReentryOverdueCount")
AT_RISK_COUNT = SearchAttributeKey.for_int("ReentryAtRiskCount")

ALL = [MUNICIPALITY, PHASE, EXPECTED_RELEASE, OVERDUE_COUNT, AT_RISK_COUNT]
