"""Audio for voice notices: espeak-ng speaks the text, sox makes telephony formats.

Outputs per notice: 8 kHz mono 16-bit PCM WAV, and G.711 μ-law (8 kHz mono 8-bit) in a WAV container.
Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotline.errors import HotlineError, InvalidInput
from hotline.telephony.domain import VOICE


class AudioToolMissing(HotlineError):
    code = "audio-tool-missing"
    http_status = 503


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioToolMissing(f"未安装 {name}：请运行 scripts/setup.sh --test（Debian 软件包 espeak-ng、sox）")
    return path


def _run(args: list[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InvalidInput(f"{Path(args[0]).name} 处理失败：{proc.stderr.strip()[-300:]}", code="audio-failed")


def _telephony_formats(source: Path, wav: Path, ulaw: Path) -> None:
    wav.parent.mkdir(parents=True, exist_ok=True)
    tmp_wav = wav.with_name(f".{wav.name}.{os.getpid()}.tmp.wav")
    tmp_ulaw = ulaw.with_name(f".{ulaw.name}.{os.getpid()}.tmp.wav")
    try:
        sox = _tool("sox")
        # 8 kHz mono 16-bit; normalise to -3 dBFS so nothing clips; high-quality resampling
        _run(
            [
                sox,
                str(source),
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(tmp_wav),
                "gain",
                "-n",
                "-3",
                "rate",
                "-v",
            ]
        )
        _run([sox, str(tmp_wav), "-e", "u-law", "-b", "8", str(tmp_ulaw)])
        os.replace(tmp_wav, wav)
        os.replace(tmp_ulaw, ulaw)
    finally:
        tmp_wav.unlink(missing_ok=True)
        tmp_ulaw.unlink(missing_ok=True)


def synthesize(text: str, wav: Path, ulaw: Path, voice: str = VOICE) -> None:
    """Speak TEXT with espeak-ng and write both telephony formats."""
    espeak = _tool("espeak-ng")
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        raw = Path(tmp) / "speech.wav"
        _run([espeak, "-v", voice, "-s", "150", "-w", str(raw), text])
        _telephony_formats(raw, wav, ulaw)


def convert_recording(content: bytes, wav: Path, ulaw: Path) -> None:
    """An uploaded recording (any format sox reads, e.g. WAV) in both telephony formats."""
    if not content:
        raise InvalidInput("上传的录音为空", code="invalid-audio")
    with tempfile.TemporaryDirectory(prefix="hotline-rec-") as tmp:
        src = Path(tmp) / "upload.wav"
        src.write_bytes(content)
        proc = subprocess.run([_tool("soxi"), "-D", str(src)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise InvalidInput("上传的文件不是可识别的音频（请上传 WAV 录音）", code="invalid-audio")
        try:
            seconds = float(proc.stdout.strip())
        except ValueError:
            seconds = 0.0
        if seconds <= 0.0:
            raise InvalidInput("上传的录音没有声音内容", code="invalid-audio")
        _telephony_formats(src, wav, ulaw)


def describe(path: Path) -> dict[str, object]:
    """Rate, channels, bits, encoding and duration as soxi reports them."""
    soxi = _tool("soxi")
    out: dict[str, object] = {}
    for flag, key in (("-r", "rate"), ("-c", "channels"), ("-b", "bits"), ("-e", "encoding"), ("-D", "seconds")):
        proc = subprocess.run([soxi, flag, str(path)], capture_output=True, text=True, check=False)
        value = proc.stdout.strip()
        out[key] = float(value) if key == "seconds" else (int(value) if value.isdigit() else value)
    return out
