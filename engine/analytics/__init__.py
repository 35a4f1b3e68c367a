"""Sales analytics: KPIs, funnels and stuck deals from deal histories."""
