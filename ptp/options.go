package ptp

// ptp4lOptions are the option names linuxptp 3.1.1's ptp4l accepts in a configuration file (its
// config table: every key of default.cfg, plus gPTP's gmCapable and min_neighbor_prop_delay).
// An override not in this list is refused before ptp4l is started, with the closest name.
var ptp4lOptions = []string{
	"twoStepFlag", "slaveOnly", "socket_priority", "priority1", "priority2", "domainNumber", "clockClass",
	"clockAccuracy", "offsetScaledLogVariance", "free_running", "freq_est_interval", "dscp_event", "dscp_general",
	"dataset_comparison", "G.8275.defaultDS.localPriority", "maxStepsRemoved", "logAnnounceInterval",
	"logSyncInterval", "operLogSyncInterval", "logMinDelayReqInterval", "logMinPdelayReqInterval",
	"operLogPdelayReqInterval", "announceReceiptTimeout", "syncReceiptTimeout", "delayAsymmetry",
	"fault_reset_interval", "neighborPropDelayThresh", "masterOnly", "G.8275.portDS.localPriority", "asCapable",
	"BMCA", "inhibit_announce", "inhibit_delay_req", "ignore_source_id", "assume_two_step", "logging_level",
	"path_trace_enabled", "follow_up_info", "hybrid_e2e", "inhibit_multicast_service", "net_sync_monitor",
	"tc_spanning_tree", "tx_timestamp_timeout", "unicast_listen", "unicast_master_table", "unicast_req_duration",
	"use_syslog", "verbose", "summary_interval", "kernel_leap", "check_fup_sync", "pi_proportional_const",
	"pi_integral_const", "pi_proportional_scale", "pi_proportional_exponent", "pi_proportional_norm_max",
	"pi_integral_scale", "pi_integral_exponent", "pi_integral_norm_max", "step_threshold", "first_step_threshold",
	"max_frequency", "clock_servo", "sanity_freq_limit", "ntpshm_segment", "msg_interval_request",
	"servo_num_offset_values", "servo_offset_threshold", "write_phase_mode", "transportSpecific", "ptp_dst_mac",
	"p2p_dst_mac", "udp_ttl", "udp6_scope", "uds_address", "clock_type", "network_transport", "delay_mechanism",
	"time_stamping", "tsproc_mode", "delay_filter", "delay_filter_length", "egressLatency", "ingressLatency",
	"boundary_clock_jbod", "productDescription", "revisionData", "manufacturerIdentity", "userDescription",
	"timeSource", "gmCapable", "min_neighbor_prop_delay", "utc_offset",
}
