"""Where the project's data lives."""

import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("BACKCOACH_DATA", Path(__file__).resolve().parents[2] / "data"))
