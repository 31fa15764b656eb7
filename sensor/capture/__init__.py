"""Packet sources: capture files (pcap, pcapng) and live interfaces, all yielding (timestamp, linktype, frame)."""
