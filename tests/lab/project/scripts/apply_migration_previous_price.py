"""Lab stand-in for the platform's migration: adds previous_price to the prices table."""
print("applying migration: previous_price (lab stand-in, no database change)")
