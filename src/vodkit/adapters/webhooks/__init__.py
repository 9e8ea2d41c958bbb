"""Webhook subscriptions and deliveries (the catalog's database), and the HTTP sender."""
