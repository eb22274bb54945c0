"""The product-set capability: a named subset of the platform's catalogue, defined by a filter on one of the
feed's ``custom_label_0..4`` columns, that a dynamic-ads campaign shows products from.

campaigns/product_sets.py makes one per campaign (the label holds the campaign's slug, feeds/rules.py
``product_set``); each platform's class says how a set is created and updated. A platform without it raises
``UnsupportedFeature`` (platforms/base.py).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from socialshop.platforms.base import Capability

LABEL_FIELDS = tuple(f"custom_label_{n}" for n in range(5))


@dataclass(frozen=True, slots=True)
class SetRule:
    """Which products a set holds: those whose ``label_field`` (custom_label_0..4) equals ``value``."""

    label_field: str
    value: str

    def __post_init__(self) -> None:
        if self.label_field not in LABEL_FIELDS:
            raise ValueError(f"label_field {self.label_field!r} is not one of {', '.join(LABEL_FIELDS)}")
        if not self.value:
            raise ValueError("a product set needs a label value")


class ProductSets(Capability):
    """Product sets in the platform's catalogue: create one for a rule, update its rule or name."""

    kind: ClassVar[str] = "product_sets"
    label: ClassVar[str] = "product sets"
    opt_in: ClassVar[bool] = True
    # The longest set name the platform takes (names are cut to it).
    max_name_length: ClassVar[int] = 100

    @abc.abstractmethod
    def create_product_set(self, name: str, rule: SetRule) -> str:
        """Create a set named ``name`` holding the products ``rule`` selects; returns the platform's set id.

        Raises ``PlatformAPIError`` (retryable or not, auth flagged) when the platform refuses.
        """

    @abc.abstractmethod
    def update_product_set(self, set_id: str, name: str, rule: SetRule) -> None:
        """Replace the name and rule of the set ``set_id``; ``PlatformAPIError`` when refused."""
