"""Every state change of the app. Each entry point (webhook task, admin, API, command, a host
store's Python call) calls these functions, never the models' write methods directly."""
