"""hotline.routing capability."""
