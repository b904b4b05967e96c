"""What gunicorn and `flask --app wsgi` load. CRM_CONFIG=production in production."""

from crm import create_app

app = create_app()
