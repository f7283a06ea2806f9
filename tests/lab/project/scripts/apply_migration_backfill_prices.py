"""Lab stand-in for a long migration: backfills price history (takes about 60 s)."""
# lab: sleep 60
print("backfilling price history (lab stand-in)")
