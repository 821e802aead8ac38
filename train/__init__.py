"""mixlab train package."""
