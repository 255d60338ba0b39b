"""What the scripts in tests/distributed/scripts leave behind: one rank<r>.json per rank."""

import json
from pathlib import Path


def results(folder, ranks: int = 2) -> list:
    """The rank<r>.json files a script wrote into folder, in rank order."""
    return [json.loads((Path(folder) / f"rank{r}.json").read_text()) for r in range(ranks)]
