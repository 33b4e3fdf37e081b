"""The pages' routes: the review console (``console*``), the public pages (``report``: the
notice form and ``/status``; ``appeal``) and the front page (``home``)."""
