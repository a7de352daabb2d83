"""hotline.dispatch capability."""
