"""The engine that proves log rules offline: rule model, search language, pipeline emulator, checks."""
