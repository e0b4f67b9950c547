"""Customer service people can reach (QS 9.2.2, 9.7.1, 9.7.2): chat sessions answered by
the AI first and by agents after a handover (``sessions``), the AI front (``bot``), the
response metrics (``metrics``) and the breach sweep (``sweep``)."""
