"""What gunicorn and `flask --app wsgi` load. CRM_CONFIG=production in production."""

import gc

from crm import create_app

app = create_app()

# What the app is made of (~150k objects: models, routes, forms, catalogues, phone metadata) lives as long as the
# worker. The collector's full pass walked all of it, ~90 ms inside whichever request set it off; frozen, it
# walks only what requests leave behind.
gc.collect()
gc.freeze()
