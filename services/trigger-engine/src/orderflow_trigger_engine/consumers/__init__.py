"""Handlers of the topics the trigger-engine reads, one per topic, registered by topic name."""
