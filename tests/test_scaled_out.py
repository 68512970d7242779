"""The scaled-out profile with real servers: two `rasa run` sharing PostgreSQL and Redis, behind nginx.

A person's messages may reach either instance; the conversation must not notice.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.scaled_stack import Nginx, Postgres, Redis, rasa_instance, scaled_env

from helpers import ROOT, SERVER_ENV, VENV_BIN, action_server, free_port, http_json, texts

pytestmark = [pytest.mark.model, pytest.mark.servers, pytest.mark.scaled]
MEMORY_DOWN = "can't reach my memory right now"


class Stack:
    """PostgreSQL + Redis + action server + two Rasa instances (+ nginx), all on 127.0.0.1."""

    def __init__(self, model, log_dir):
        self.model, self.log_dir = model, log_dir
        self.token = secrets.token_hex(16)
        self.rest_token = secrets.token_hex(16)
        self.servers = []
        self.postgres = Postgres()
        self.redis = Redis(log_dir)
        self.actions = action_server(log_dir)
        self.env = scaled_env(self.postgres, self.redis, f"http://127.0.0.1:{self.actions.port}/webhook")
        self.instances = [self.start_instance() for _ in range(2)]
        for instance in self.instances:
            self.wait(instance)
        self.nginx = Nginx(log_dir, [i.port for i in self.instances], self.rest_token)

    def start_instance(self, port=None):
        return rasa_instance(
            self.model, self.log_dir, self.env, port=port, extra=["--enable-api", "--auth-token", self.token]
        )

    @staticmethod
    def wait(instance):
        instance.wait_until_ready(f"http://127.0.0.1:{instance.port}/webhooks/rest/", timeout=180)

    def restart(self, index):
        old = self.instances[index]
        old.stop()
        self.instances[index] = self.start_instance(port=old.port)
        self.wait(self.instances[index])

    def send(self, index, sender, text):
        return http_json(
            f"http://127.0.0.1:{self.instances[index].port}/webhooks/rest/webhook", {"sender": sender, "message": text}
        )

    def tracker(self, sender, index=0):
        return http_json(
            f"http://127.0.0.1:{self.instances[index].port}/conversations/{sender}/tracker?token={self.token}"
        )

    def stop(self):
        for server in [getattr(self, "nginx", None), *getattr(self, "instances", []), self.actions, self.redis]:
            if server is not None:
                server.stop()
        self.postgres.remove()


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    running = Stack(trained_model, tmp_path_factory.mktemp("scaled"))
    yield running
    running.stop()


def user_texts(tracker):
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_a_conversation_alternating_between_instances_keeps_its_context_and_triage_level(stack):
    sender = uuid.uuid4().hex
    assert "blood clot" in texts(stack.send(0, sender, "my left calf is swollen and hot"))
    stack.send(1, sender, "why do my legs cramp at night?")
    reply = stack.send(0, sender, "what about during pregnancy?")
    assert "pregnancy" in texts(reply).lower()
    for index in (0, 1):
        slots = stack.tracker(f"rest:{sender}", index)["slots"]
        assert slots["triage_level"] == "urgent"
        assert slots["topic"] == "causes_pregnancy"


def test_concurrent_messages_to_one_conversation_are_processed_one_at_a_time_and_none_is_lost(stack):
    sender = uuid.uuid4().hex
    messages = [f"what stretches help, question {n}" for n in range(12)]
    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        replies = list(pool.map(lambda item: stack.send(item[0] % 2, sender, item[1]), enumerate(messages)))
    assert all(replies), "a message got no answer"
    events = stack.tracker(f"rest:{sender}")["events"]
    assert sorted(user_texts({"events": events})) == sorted(messages)  # each once: none lost, none twice
    # One turn at a time: every message is answered before the next one is read.
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
    turns = "".join("u" if kind == "user" else "b" for kind in kinds)
    assert "uu" not in turns and turns.startswith("u") and turns.endswith("b")
    assert stack.postgres.count_events()[f"rest:{sender}"] == len(events)


def test_a_restarted_instance_loses_nothing_and_the_other_serves_meanwhile(stack):
    sender = uuid.uuid4().hex
    stack.send(0, sender, "why do my legs cramp at night?")
    restart = threading.Thread(target=stack.restart, args=(0,))
    restart.start()
    reply = stack.send(1, sender, "what about during pregnancy?")  # while instance 0 is down
    restart.join()
    assert "pregnancy" in texts(reply).lower()
    more = stack.send(0, sender, "tell me more")
    assert "magnesium" in texts(more).lower()  # the pregnancy entry's "more", so the topic survived
    assert user_texts(stack.tracker(f"rest:{sender}")) == [
        "why do my legs cramp at night?",
        "what about during pregnancy?",
        "tell me more",
    ]


def test_database_down_the_person_is_told_honestly_and_the_conversation_resumes_afterwards(stack):
    sender = uuid.uuid4().hex
    stack.send(0, sender, "my left calf is swollen and hot")
    stack.postgres.stop()
    try:
        for index in (0, 1):
            reply = texts(stack.send(index, sender, "can I take magnesium?"))
            assert MEMORY_DOWN in reply and "112" in reply and "911" in reply and "999" in reply
            assert "Magnesium is often sold" not in reply  # no answer from a conversation without its past
    finally:
        stack.postgres.start()
    reply = stack.send(1, sender, "what should I do during a cramp?")
    tracker = stack.tracker(f"rest:{sender}")
    assert tracker["slots"]["triage_level"] == "urgent" and tracker["slots"]["clot_signs"] is True
    assert "rub or massage that leg until a doctor" in texts(reply)  # the clot-safe first aid: signs remembered
    assert user_texts(tracker) == ["my left calf is swollen and hot", "what should I do during a cramp?"]


def test_lock_store_down_the_person_is_told_honestly_and_it_recovers(stack):
    sender = uuid.uuid4().hex
    port, password = stack.redis.port, stack.redis.password
    stack.redis.stop()
    try:
        assert MEMORY_DOWN in texts(stack.send(0, sender, "why do my legs cramp?"))
    finally:
        stack.redis = Redis(stack.log_dir, port=port, password=password)
    assert "no one clear cause" in texts(stack.send(0, sender, "why do my legs cramp?"))


def post(url, payload, headers=None):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_nginx_exposes_the_channels_but_rest_only_with_its_token_and_never_the_api(stack):
    base = f"http://127.0.0.1:{stack.nginx.port}"
    message = {"sender": uuid.uuid4().hex, "message": "hi"}
    assert post(f"{base}/webhooks/rest/webhook", message)[0] == 403
    assert post(f"{base}/webhooks/rest/webhook", message, {"Authorization": "Bearer wrong"})[0] == 403
    status, body = post(f"{base}/webhooks/rest/webhook", message, {"Authorization": f"Bearer {stack.rest_token}"})
    assert status == 200 and b"Cramp Coach" in body
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{base}/conversations/rest:{message['sender']}/tracker?token={stack.token}")
    assert error.value.code == 404
    assert urllib.request.urlopen(f"{base}/socket.io/?EIO=4&transport=polling").status == 200


def test_an_unreachable_lock_store_stops_the_start_with_a_clear_error(stack, tmp_path):

    env = {**stack.env, "CRAMP_COACH_REDIS_PORT": str(free_port())}

    completed = subprocess.run(
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(stack.model),
            "--endpoints",
            str(ROOT / "endpoints-scaled.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(free_port()),
        ],
        cwd=tmp_path,
        env={**SERVER_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "cannot reach the Redis lock store" in completed.stdout + completed.stderr
    assert stack.redis.password not in completed.stdout + completed.stderr


def test_the_rate_limit_holds_across_instances(stack):
    """20 messages a minute per conversation, however they are spread over the instances."""
    sender = uuid.uuid4().hex
    replies = [texts(stack.send(n % 2, sender, f"hello {n}")) for n in range(22)]
    slowed = [n for n, reply in enumerate(replies) if "faster than I can read them" in reply]
    assert slowed == [20, 21]
    assert len(user_texts(stack.tracker(f"rest:{sender}"))) == 20  # the extra ones were not processed
