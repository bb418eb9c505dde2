"""Endpoints: where webhooks go, with the secrets they are signed with and their state."""
