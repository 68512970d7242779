"""Emergency numbers by country (knowledge/emergency_numbers.yml) and how to pick one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Text, Tuple

import yaml

NUMBERS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "emergency_numbers.yml"


class EmergencyNumbersError(ValueError):
    """The emergency number file is unusable; the message names the country and field."""


@dataclass(frozen=True)
class Country:
    code: Text
    label: Text
    number: Text
    names: Tuple[Text, ...]
    time_zones: Tuple[Text, ...]
    places: Tuple[Text, ...] = ()

    @property
    def phrases(self) -> Tuple[Text, ...]:
        """Every phrase that names the country or a place in it."""
        return self.names + self.places


@dataclass(frozen=True)
class EmergencyNumbers:
    default: Text
    countries: Mapping[Text, Country]
    ask_country: Text = ""

    def for_country(self, code: Optional[Text]) -> Optional[Text]:
        country = self.countries.get(str(code or "").upper())
        return country.number if country else None

    def guess_country(self, metadata: Mapping[Text, Any]) -> Optional[Country]:
        """A country from what a channel tells: a locale's region or a time zone.

        A language tag alone ("en") is not a country, so it gives no guess.
        """
        locale = str(metadata.get("locale") or "").replace("_", "-")
        parts = locale.split("-")
        if len(parts) >= 2 and parts[-1].upper() in self.countries:
            return self.countries[parts[-1].upper()]
        zone = str(metadata.get("time_zone") or metadata.get("timezone") or "")
        for country in self.countries.values():
            if zone and zone in country.time_zones:
                return country
        return None

    def number_text(self, country_code: Optional[Text], metadata: Mapping[Text, Any]) -> Text:
        """What the triage answers say: the person's country, a guess beside 112, or all."""
        stated = self.for_country(country_code)
        if stated:
            return stated
        guess = self.guess_country(metadata or {})
        if guess is None:
            return self.default
        if guess.number.startswith("112"):
            return guess.number
        return f"{guess.number} if you are in {guess.label}, otherwise 112"


def parse_numbers(document: Any) -> EmergencyNumbers:
    if not isinstance(document, dict) or not isinstance(document.get("countries"), dict):
        raise EmergencyNumbersError("emergency numbers: needs a 'countries' mapping")
    countries: Dict[Text, Country] = {}
    for code, raw in document["countries"].items():
        for field in ("label", "number", "names"):
            if not isinstance(raw, dict) or not raw.get(field):
                raise EmergencyNumbersError(f"country '{code}', field '{field}': is missing")
        countries[str(code).upper()] = Country(
            code=str(code).upper(),
            label=str(raw["label"]),
            number=str(raw["number"]),
            names=tuple(str(n).lower() for n in raw["names"]),
            time_zones=tuple(str(z) for z in raw.get("time_zones") or []),
            places=tuple(str(n).lower() for n in raw.get("places") or []),
        )
    return EmergencyNumbers(
        default=str(document.get("default") or "112"),
        countries=countries,
        ask_country=str(document.get("ask_country") or ""),
    )


def load_numbers(path: Path = NUMBERS_FILE) -> EmergencyNumbers:
    with open(path, encoding="utf-8") as handle:
        return parse_numbers(yaml.safe_load(handle))


def numbers_fingerprint(path: Path = NUMBERS_FILE) -> str:
    """Short hash of the numbers file and this module, for config.yml (retrains on change)."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]
