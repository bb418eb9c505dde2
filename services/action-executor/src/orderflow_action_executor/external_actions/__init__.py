"""External actions (seed 000): definitions per order and templates for all orders, the menu,
executions by named users, and the comments connectors answer with."""
