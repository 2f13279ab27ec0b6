# Registration office console — English messages.
