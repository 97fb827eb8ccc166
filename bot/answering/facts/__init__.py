"""Facts read from the cited units: which model they are about (entities), prices and cost
estimates (costs), lifecycle events (timeline), disagreements (conflicts) and whether a unit
holds the kind of value a question asks for (grounding)."""
