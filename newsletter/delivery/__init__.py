"""Delivery: fan-out to delivery rows, personalised messages, transports."""
