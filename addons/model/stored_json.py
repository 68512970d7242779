"""Trained components of this project keep one JSON document in Rasa's model storage."""

from __future__ import annotations

import json
from abc import ABC
from typing import Any, ClassVar, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def write_json(storage: ModelStorage, resource: Resource, filename: Text, data: Any) -> None:
    with storage.write_to(resource) as directory:
        (directory / filename).write_text(json.dumps(data))


def read_json(storage: ModelStorage, resource: Resource, filename: Text) -> Optional[Any]:
    """The stored document, or None when the model has none (e.g. not yet trained)."""
    try:
        with storage.read_from(resource) as directory:
            return json.loads((directory / filename).read_text())
    except (ValueError, FileNotFoundError):
        return None


class StoredJsonComponent(GraphComponent, ABC):
    """A graph component whose trained state is one JSON document (`ARTIFACT`)."""

    ARTIFACT: ClassVar[Text]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        stored: Optional[Any] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.restore(stored)

    def restore(self, stored: Optional[Any]) -> None:
        """Takes the stored document (None before training)."""

    def persist(self, data: Any) -> Resource:
        write_json(self._model_storage, self._resource, self.ARTIFACT, data)
        return self._resource

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "StoredJsonComponent":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "StoredJsonComponent":
        return cls(config, model_storage, resource, read_json(model_storage, resource, cls.ARTIFACT))
