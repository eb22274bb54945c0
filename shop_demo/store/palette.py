"""Colour names the demo store uses for variants, with the RGB used for swatches and seed images."""
from __future__ import annotations

COLORS: dict[str, str] = {
    "Black": "#22252a", "White": "#f4f3ef", "Navy": "#1f3a5f", "Red": "#c0392b", "Olive": "#6b7a3a",
    "Sand": "#d8c39a", "Sky": "#6fa8dc", "Rose": "#e8a0b4", "Forest": "#2e6b4f", "Charcoal": "#4a4f57",
    "Mustard": "#d9a531", "Plum": "#6d3b6e",
}


def swatch(color: str) -> str:
    """The CSS colour for a colour name (a neutral grey for names we do not know)."""
    return COLORS.get(color, "#b8bcc4")
