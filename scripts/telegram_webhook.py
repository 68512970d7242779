"""Registers (or shows) the bot's webhook with Telegram, including the secret token.

aiogram 2.15, the release Rasa 3.6 resolves, has no secret_token argument, so this calls
the Bot API method directly. Reads TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_URL (the public
https URL that reaches /webhooks/telegram/webhook) and TELEGRAM_SECRET_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

API = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/")


def call(method: str, token: str, payload: dict) -> dict:
    request = urllib.request.Request(
        f"{API}/bot{token}/{method}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}") or {"ok": False, "description": str(error)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--info", action="store_true", help="show the current webhook instead")
    args = parser.parse_args()
    token = os.environ.get("TELEGRAM_TOKEN")
    if not token:
        print("error: set TELEGRAM_TOKEN", file=sys.stderr)
        return 2
    if args.info:
        print(json.dumps(call("getWebhookInfo", token, {}), indent=2))
        return 0
    url, secret = os.environ.get("TELEGRAM_WEBHOOK_URL"), os.environ.get("TELEGRAM_SECRET_TOKEN")
    if not url or not url.startswith("https://") or not secret:
        print("error: set TELEGRAM_WEBHOOK_URL (https://...) and TELEGRAM_SECRET_TOKEN", file=sys.stderr)
        return 2
    result = call(
        "setWebhook",
        token,
        {
            "url": url,
            "secret_token": secret,
            "allowed_updates": ["message", "edited_message", "callback_query"],
        },
    )
    print(result.get("description") or result)
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
