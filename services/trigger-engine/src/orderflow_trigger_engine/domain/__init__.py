"""The trigger-engine's domain: what an event is to a trigger, what a trigger listens to, its
conditions and their explanation. Pure: no I/O, so that a delayed run (issue 10) can evaluate a
trigger again later, on a later state of its subject."""
