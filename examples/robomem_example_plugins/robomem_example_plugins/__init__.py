"""Example robomem plug-ins, registered through entry points (see pyproject.toml): ``env.type: pantry``,
``agent.memory.vector.type: jsonfile``, ``agent.memory.embedder.type: letters``, ``agent.thalamus.type:
tagging``."""
