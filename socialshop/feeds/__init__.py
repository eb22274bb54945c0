"""Product feeds for the platforms' catalogues: models, builder, writers, serving."""
