"""The SQL read model: a projection of the cases, written by activities, read by the API."""
