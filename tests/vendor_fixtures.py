"""Where the vendors' own payloads and reports are: ../shared/vendor-fixtures, or $OMNIRECON_VENDOR_FIXTURES.

A missing folder is an error, not a skip: contract tests that quietly do not run prove nothing.
"""
import os
from pathlib import Path

ROOT = Path(os.environ.get("OMNIRECON_VENDOR_FIXTURES",
                           Path(__file__).resolve().parents[1].parent / "shared" / "vendor-fixtures"))


def vendor_fixture(*parts: str) -> Path:
    path = ROOT.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"vendor fixture {path} not found (set OMNIRECON_VENDOR_FIXTURES to the folder)")
    return path
