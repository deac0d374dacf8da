"""The offline household simulator (``env.type: household``): EB-ALFRED- and EB-Habitat-style task suites."""
