from pathlib import Path

from infra.embedded import EmbeddedTemporal


def test_the_embedded_web_ui_decrypts_through_the_api(tmp_path: Path):
    embedded = EmbeddedTemporal(
        binary="temporal",
        data_dir=tmp_path,
        host="127.0.0.1",
        port=7233,
        ui_port=8233,
        ui_codec_endpoint="http://127.0.0.1:8000/codec",
    )
    command = embedded.command()
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8000/codec"
    assert (
        "--ui-codec-endpoint"
        not in EmbeddedTemporal(
            binary="temporal", data_dir=tmp_path, host="127.0.0.1", port=7233, ui_port=8233
        ).command()
    )
