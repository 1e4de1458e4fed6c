"""leadsync: brings LiveChat visitors into Marketo as leads, inside Marketo's limits."""
