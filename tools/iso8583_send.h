/* `iso8583 send`: JSON messages to an agent over UDP or TCP, its answers back as JSON. */
#ifndef ISO8583_SEND_H
#define ISO8583_SEND_H

/* argv[0] is "send". Exit status: 0 every message answered, 1 one was not (or bad input), 2 usage. */
int iso8583_send_main(int argc, char **argv);

#endif
