"""Shoppable posts: product-tagged images, the gallery, engagement, customer photos and comments."""
