"""What the member-facing blueprints share, so that none imports another.

``guards``: members-only pages and the safe ``next`` path; ``forms``: the
forms more than one blueprint shows; ``texts``: the words for scopes, purposes,
legal bases and partner categories (the consent screen and the account pages);
``limits``: the per-address rate limits of the settings; ``rate_limit_storage``:
where they are counted, in Redis by leased batches. No routes here.
"""
