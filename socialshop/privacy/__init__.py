"""Consent and opt-out: what a visitor allowed, and the rules that decide what may be kept or shared."""
