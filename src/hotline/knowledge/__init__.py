"""hotline.knowledge capability."""
