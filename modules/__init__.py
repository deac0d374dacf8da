"""The four brain modules of RoboMemory, each a LangGraph node family with its own prompts.

* ``thalamus`` — step summary and retrieval queries (information preprocessor)
* ``hippocampus`` — spatial, temporal, episodic and semantic memory (updated and retrieved in parallel)
* ``prefrontal`` — planner and critic (closed-loop planning)
* ``cerebellum`` — executes one skill through the environment contract
"""
