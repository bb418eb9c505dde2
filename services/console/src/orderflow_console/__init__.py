"""The operator console: server-rendered pages over the four services' HTTP APIs."""
