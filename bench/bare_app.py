"""A bare FastAPI app with one route that returns the JSON in BARE_JSON_FILE,
the baseline that bench/cache_hit.sh compares cached GET hits against.

    BARE_JSON_FILE=page.json .venv/bin/uvicorn bench.bare_app:app --port 8124
"""

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

PAYLOAD: Any = json.loads(Path(os.environ["BARE_JSON_FILE"]).read_text())

app = FastAPI()


@app.get("/api/v1/products")
async def products() -> Any:
    return PAYLOAD
