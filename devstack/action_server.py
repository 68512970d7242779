"""Starts the rasa-sdk action server on loopback (it has no authentication).

`rasa run actions` always listens on every interface; this uses rasa-sdk's own app
factory with an explicit host instead.
"""

import argparse
import logging
import os
import sys
from pathlib import Path

from rasa_sdk.endpoint import create_app
from sanic import response
from sanic.response import HTTPResponse

from actions.knowledge import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", "5055")))
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    # rasa-sdk only logs a package that fails to import and serves no actions; fail
    # loudly instead, naming the broken knowledge entry and field.
    try:
        from actions.answers import knowledge_base

        knowledge_base()
    except KnowledgeError as error:
        sys.exit(f"error: the knowledge file is broken: {error}")
    # Only Rasa calls the action server: no browser origin is allowed.
    app = create_app("actions", cors_origins=[])

    @app.exception(Exception)
    async def failed_action(_request, exception: Exception) -> HTTPResponse:
        # rasa-sdk's own handler echoes the whole request (the conversation) in the error body,
        # which Rasa then logs. The type of error is enough to find the bug.
        logging.getLogger("cramp_coach.actions").error("an action failed (%s)", type(exception).__name__)
        return response.json({"error": "the action failed"}, status=500)

    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
