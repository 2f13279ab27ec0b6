# Console dell'ufficio di registrazione — messaggi in italiano.
