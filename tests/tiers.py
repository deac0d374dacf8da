"""The fast test tier: which tests are slow, in one place (``make test-fast`` runs every test not marked
``slow``, ``chroma``, ``local_llm``, ``ros`` or ``browser``; ``make pytest`` runs them all).

Measured with ``pytest --durations=0`` on the shared 2-core machine (2026-12-05, under load; measured again
later that day at a load average of 6-8 for the tests added since): every test function that took 0.3 s or
more in any phase, and whole files whose shared fixtures are slow. Listed here
rather than by a decorator in each file so that one measurement updates one file; ``tests/test_tiers.py``
checks every entry still names a file and a test function. A slow test added later is marked
``@pytest.mark.slow`` where it is written.
"""

from __future__ import annotations

#: Every test in these files is slow (or shares a slow module-scoped fixture).
SLOW_FILES: frozenset[str] = frozenset(
    {
        "tests/bench/test_bounded_context.py",
        "tests/bench/test_embedding_throughput.py",
        "tests/bench/test_graph_locality.py",
        "tests/bench/test_parallel_memory.py",
        "tests/bench/test_step_overhead.py",
        "tests/deploy/test_shared_memory.py",
        "tests/envs/bridge/test_conformance.py",
        "tests/envs/bridge/test_eb_results.py",
        "tests/envs/bridge/test_eval.py",
        "tests/envs/bridge/test_llm_eval.py",
        "tests/envs/bridge/test_roundtrip.py",
        "tests/envs/household/test_memory_resume.py",
        "tests/envs/household/test_properties.py",
        "tests/envs/test_conformance.py",
        "tests/examples/test_example_plugins.py",
        "tests/modules/hippocampus/spatial/test_household_e2e.py",
        "tests/modules/hippocampus/spatial/test_locality.py",
        "tests/modules/hippocampus/test_shared_writers.py",
        "tests/modules/prefrontal/symbolic/test_loop.py",
        "tests/robomem/agents/test_paper_prompts.py",
        "tests/robomem/agents/test_prompts.py",
        "tests/robomem/agents/test_random_kill.py",
        "tests/robomem/agents/test_resets.py",
        "tests/robomem/agents/test_resume.py",
        "tests/robomem/agents/test_resume_memory.py",
        "tests/robomem/agents/test_robomemory_llm.py",
        "tests/robomem/cli/test_memory_view.py",
        "tests/robomem/cli/test_user_faults.py",
        "tests/robomem/report/test_report.py",
    }
)

#: Slow test functions (all their parametrizations) in files whose other tests are fast.
SLOW_TESTS: dict[str, frozenset[str]] = {
    "tests/bench/test_competence.py": frozenset(
        {
            "test_quick_run_writes_the_report",
        }
    ),
    "tests/bench/test_cumulative_learning.py": frozenset(
        {
            "test_quick_run_writes_the_report_and_the_plot",
        }
    ),
    "tests/bench/test_llm_cost.py": frozenset(
        {
            "test_one_preset_alone",
            "test_quick_run_reports_both_presets_side_by_side",
        }
    ),
    "tests/bench/test_parallel_eval.py": frozenset(
        {
            "test_quick_run_reports_every_configuration_on_the_same_episodes",
        }
    ),
    "tests/bench/test_retrieval_quality.py": frozenset(
        {
            "test_quick_run_writes_the_report",
        }
    ),
    "tests/bench/test_vs_mem0.py": frozenset(
        {
            "test_robomem_answers_where_a_moved_thing_is_now",
        }
    ),
    "tests/envs/bridge/test_eb_backends.py": frozenset(
        {
            "test_a_missing_eb_root_is_one_line",
            "test_actions_outside_the_skill_list_count_only_as_invalid",
            "test_eb_alfred_episode_selection_skills_and_steps",
            "test_eb_alfred_passes_its_options_through",
            "test_eb_habitat_a_listed_served_mismatch_is_an_error",
            "test_eb_habitat_episode_count_rounds_up_like_eb",
            "test_eb_habitat_links_the_data_folder_like_eb_does",
            "test_eb_habitat_lists_episodes_in_the_order_eb_serves_them",
            "test_eb_habitat_sends_ints_only",
            "test_the_tenth_invalid_action_ends_the_episode_even_if_unknown",
        }
    ),
    "tests/envs/bridge/test_pool.py": frozenset(
        {
            "test_a_server_killed_mid_run_leaves_the_pool_and_no_episode_is_lost_or_counted_twice",
            "test_an_episode_whose_server_dies_mid_episode_moves_to_another",
            "test_with_every_server_dead_the_episodes_fail_with_one_clear_error",
        }
    ),
    "tests/envs/bridge/test_protocol.py": frozenset(
        {
            "test_a_server_that_never_says_hello_fails_within_the_connect_timeout",
            "test_a_step_that_never_answers_times_out_and_a_late_reply_is_dropped",
            "test_malformed_requests_get_error_replies_and_the_connection_stays_usable",
            "test_server_py_is_standalone_python39",
        }
    ),
    "tests/envs/household/test_env.py": frozenset(
        {
            "test_out_of_range_id_is_invalid",
            "test_progress_of_committed_tasks_along_their_gold_plans",
        }
    ),
    "tests/envs/household/test_examples.py": frozenset(
        {
            "test_every_gold_plan_solves_its_task_in_a_fresh_house",
            "test_examples_use_no_house_and_no_task_of_the_committed_suites",
        }
    ),
    "tests/envs/household/test_memory.py": frozenset(
        {
            "test_every_scored_target_was_last_seen_where_it_is_and_the_oracle_fits_the_budget",
            "test_generator_reproduces_the_committed_memory_suite",
            "test_memory_v2_holds_memory_v1_unchanged",
            "test_memory_v3_holds_memory_v2_unchanged",
        }
    ),
    "tests/envs/household/test_memory_llm.py": frozenset(
        {
            "test_the_paper_preset_runs_a_lifelong_memory_sequence_and_plans_with_what_it_stored",
        }
    ),
    "tests/envs/household/test_suites.py": frozenset(
        {
            "test_committed_suite_is_canonical_json",
            "test_every_committed_task_is_solved_by_the_oracle_in_its_gold_length",
            "test_generator_reproduces_the_committed_suite_byte_for_byte",
            "test_lifelong_sequences_are_solved_in_order_in_one_world",
            "test_lifelong_sequences_stay_solvable_with_perturbations",
            "test_load_by_path",
        }
    ),
    "tests/envs/ros/test_contract.py": frozenset(
        {
            "test_building_without_rclpy_names_the_extra",
            "test_registering_never_imports_rclpy",
        }
    ),
    "tests/modules/hippocampus/spatial/test_graph.py": frozenset(
        {
            "test_edge_accessors_agree_with_networkx_through_random_edits",
        }
    ),
    "tests/modules/hippocampus/spatial/test_llm.py": frozenset(
        {
            "test_an_unreachable_llm_falls_back_when_the_policy_says_so",
            "test_bad_llm_replies_fall_back_to_the_rules",
            "test_llm_extractor_reads_the_summary_text",
            "test_valid_llm_edits_are_applied",
        }
    ),
    "tests/modules/hippocampus/spatial/test_llm_calls.py": frozenset(
        {
            "test_calls_per_update_and_the_same_right_answer",
        }
    ),
    "tests/modules/hippocampus/spatial/test_persistence.py": frozenset(
        {
            "test_a_killed_writer_leaves_a_consistent_graph",
            "test_processes_opening_a_new_graph_store_together_all_succeed",
            "test_round_trip_in_a_new_process_is_exact",
            "test_two_processes_writing_one_site_lose_nothing",
        }
    ),
    "tests/modules/hippocampus/test_episodic.py": frozenset(
        {
            "test_cap_evicts_to_the_archive",
        }
    ),
    "tests/modules/hippocampus/test_episodic_creator.py": frozenset(
        {
            "test_a_resumed_consolidation_applies_the_saved_item_without_asking_the_creator_again",
        }
    ),
    "tests/modules/hippocampus/test_factory.py": frozenset(
        {
            "test_a_wipe_deletes_every_file_robomem_wrote_and_nothing_else",
            "test_long_term_memory_on_a_shared_chroma_server",
            "test_memory_cli_show_export_wipe",
            "test_one_episode_reaches_every_store",
            "test_one_process_at_a_time_per_memory_folder",
            "test_reopening_in_a_new_process_restores_everything",
            "test_wiping_one_robot_keeps_the_shared_memory_unless_asked",
        }
    ),
    "tests/modules/hippocampus/test_lessons_joint.py": frozenset(
        {
            "test_one_call_leaves_the_memory_that_creation_then_decisions_leave",
        }
    ),
    "tests/modules/hippocampus/test_longterm.py": frozenset(
        {
            "test_an_llm_decision_made_stale_by_another_robot_is_taken_again",
        }
    ),
    "tests/modules/hippocampus/test_semantic.py": frozenset(
        {
            "test_llm_creator_and_decider_through_a_real_server",
            "test_on_a_shared_server_another_robots_new_lesson_is_a_near_duplicate",
        }
    ),
    "tests/modules/hippocampus/test_temporal.py": frozenset(
        {
            "test_a_writer_killed_mid_run_resumes_at_a_saved_step",
            "test_compression_respects_its_character_budget",
            "test_llm_compressor_through_a_real_server",
        }
    ),
    "tests/modules/prefrontal/symbolic/test_beliefs.py": frozenset(
        {
            "test_planner_modules_never_import_the_simulator",
        }
    ),
    "tests/modules/prefrontal/symbolic/test_memory_suites.py": frozenset(
        {
            "test_memory_does_the_scored_tasks_in_budget_and_no_memory_does_not",
            "test_putting_back_needs_episodic_memory",
            "test_the_critic_vetoes_what_memory_says_will_fail",
        }
    ),
    "tests/modules/prefrontal/test_entry_points.py": frozenset(
        {
            "test_entry_point_planner_drives_an_evaluation",
        }
    ),
    "tests/modules/prefrontal/test_llm_critic.py": frozenset(
        {
            "test_fallback_is_not_asked_when_the_reply_is_usable",
            "test_replies_with_a_readable_ok_are_used_at_once",
        }
    ),
    "tests/modules/prefrontal/test_llm_planner.py": frozenset(
        {
            "test_a_500_once_is_retried_and_counted_in_the_planners_usage",
            "test_empty_plan_is_a_decision_not_an_error",
            "test_guide_examples_and_budget_reach_the_prompt",
            "test_unusable_replies_are_output_errors_with_raw_kept",
            "test_valid_plan_maps_ids_and_names_to_skills",
            "test_wrong_id_with_a_valid_name_trusts_the_name",
        }
    ),
    "tests/modules/prefrontal/test_llm_reply_corpus.py": frozenset(
        {
            "test_replies_that_cannot_be_a_plan_are_output_errors",
            "test_replies_that_spell_a_plan_are_accepted_at_once",
        }
    ),
    "tests/modules/prefrontal/test_recall.py": frozenset(
        {
            "test_long_episodes_reach_the_planner_whole_from_the_real_store",
        }
    ),
    "tests/modules/thalamus/test_llm_thalamus.py": frozenset(
        {
            "test_a_failed_half_stops_by_default",
        }
    ),
    "tests/robomem/agents/test_paper_preset.py": frozenset(
        {
            "test_a_failed_memory_call_stops_as_llm_and_resume_finishes",
            "test_every_role_is_called_and_none_falls_back",
            "test_fallback_runs_on_and_counts_per_role",
            "test_the_papers_two_spatial_calls_are_scripted_too",
        }
    ),
    "tests/robomem/agents/test_robomemory.py": frozenset(
        {
            "test_each_episode_is_consolidated_once",
        }
    ),
    "tests/robomem/cli/test_cli.py": frozenset(
        {
            "test_real_process_prints_no_traceback",
        }
    ),
    "tests/robomem/embeddings/test_endpoint.py": frozenset(
        {
            "test_requests_tokens_and_retries_are_accounted",
        }
    ),
    "tests/robomem/embeddings/test_endpoint_runs.py": frozenset(
        {
            "test_a_dead_endpoint_stops_the_run_as_an_llm_error_and_resume_finishes_it",
            "test_an_offline_agent_accounts_its_embedding_requests",
            "test_reopening_a_memory_with_another_dimension_is_refused_in_one_line",
            "test_reopening_a_memory_with_another_embedder_type_names_the_one_it_needs",
        }
    ),
    "tests/robomem/embeddings/test_minilm.py": frozenset(
        {
            "test_batching_does_not_change_vectors",
            "test_concurrent_callers_get_correct_vectors",
            "test_never_opens_a_socket",
            "test_truncates_at_256_tokens",
            "test_works_without_any_network_namespace",
        }
    ),
    "tests/robomem/embeddings/test_onnx_backend.py": frozenset(
        {
            "test_onnx_equals_numpy_on_varied_sentences",
            "test_the_standard_operator_graph_gives_the_same_vectors",
            "test_without_onnxruntime_auto_falls_back_to_numpy_and_onnx_fails_clearly",
        }
    ),
    "tests/robomem/embeddings/test_plugins.py": frozenset(
        {
            "test_an_evaluation_runs_on_the_plug_ins",
        }
    ),
    "tests/robomem/eval/test_parallel.py": frozenset(
        {
            "test_a_parallel_lifelong_run_equals_the_sequential_run",
            "test_a_parallel_run_equals_the_sequential_run_episode_for_episode",
            "test_resume_with_another_worker_count_is_refused",
        }
    ),
    "tests/robomem/eval/test_progress.py": frozenset(
        {
            "test_robomem_eval_on_a_real_terminal",
            "test_worker_threads_share_one_progress",
        }
    ),
    "tests/robomem/llm/test_jsonparse.py": frozenset(
        {
            "test_a_truncated_object_never_parses_as_a_fragment",
            "test_any_object_round_trips_through_prose_and_fences",
            "test_never_raises",
            "test_python_style_objects_round_trip",
        }
    ),
    "tests/robomem/llm/test_openai_compat.py": frozenset(
        {
            "test_a_role_can_use_another_endpoint",
        }
    ),
    "tests/robomem/llm/test_openai_retries.py": frozenset(
        {
            "test_429_is_retried",
            "test_a_500_absorbed_by_a_retry_is_counted",
            "test_retries_are_counted_per_role_and_when_they_all_fail",
        }
    ),
    "tests/robomem/llm/test_openai_transport.py": frozenset(
        {
            "test_a_body_cut_short_is_an_llm_error_not_a_crash",
            "test_concurrency_is_bounded_by_the_semaphore",
            "test_server_errors_are_retried_as_configured_then_raised",
            "test_timeout_raises_llm_error_without_a_retry_storm",
        }
    ),
    "tests/robomem/stores/test_backends.py": frozenset(
        {
            "test_chroma_recall_against_exact_reference",
            "test_exact_backend_does_not_import_chromadb",
            "test_factory_lays_out_the_memory_directory",
            "test_reopening_with_another_embedder_or_dim_raises",
        }
    ),
    "tests/robomem/stores/test_chroma_shared.py": frozenset(
        {
            "test_a_holder_frozen_past_its_lease_cannot_release_its_successors_lock",
            "test_a_killed_holders_lock_is_taken_over_once_its_heartbeat_stops",
            "test_the_write_lock_serialises_read_modify_write_across_processes",
        }
    ),
    "tests/robomem/stores/test_conformance.py": frozenset(
        {
            "test_in_process",
            "test_persistence",
            "test_run_vector_store_suite_on_exact",
            "test_server_takes_writers_from_two_processes",
        }
    ),
    "tests/robomem/test_api.py": frozenset(
        {
            "test_a_config_object_with_overrides_then_a_resume",
        }
    ),
    "tests/robomem/test_studio.py": frozenset(
        {
            "test_langgraph_dev_serves_the_loop_offline",
            "test_the_langgraph_json_factory_runs_episodes",
        }
    ),
    "tests/robomem/test_trace.py": frozenset(
        {
            "test_a_timed_out_skill_is_a_step_and_a_failed_env_ends_the_trace",
            "test_an_offline_run_traces_every_step_and_prunes_finished_checkpoints",
            "test_llm_replies_critic_objections_and_verbose_lines_without_the_key",
        }
    ),
    "tests/test_readme.py": frozenset(
        {
            "test_inline_commands_parse_and_resolve",
            "test_readme_block",
        }
    ),
}
