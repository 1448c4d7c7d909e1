"""``python -m guestbook``: run the server (configured from environment variables)."""

from guestbook.app import main

if __name__ == "__main__":
    main()
