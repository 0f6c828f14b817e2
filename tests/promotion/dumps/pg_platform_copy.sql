--
-- PostgreSQL database dump
-- Source note: pg_dump (plain format) of a small platform: COPY blocks and COMMENT ON COLUMN.
--

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TABLE public.player (
    player_id integer NOT NULL,
    inviter_id integer,
    nick text,
    phone character varying(20)
);

COMMENT ON TABLE public.player IS '玩家';
COMMENT ON COLUMN public.player.inviter_id IS '邀请人ID';

CREATE TABLE public.bet_slip (
    slip_no text NOT NULL,
    player_id integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    prize numeric(12,2),
    placed_at timestamp with time zone NOT NULL
);

COMMENT ON COLUMN public.bet_slip.amount IS '投注额';
COMMENT ON COLUMN public.bet_slip.prize IS '中奖金额';

COPY public.player (player_id, inviter_id, nick, phone) FROM stdin;
1	\N	top	13600000001
2	1	it's	\N
3	2	tab\there	13600000003
\.

COPY public.bet_slip (slip_no, player_id, amount, prize, placed_at) FROM stdin;
B-1	3	88.00	0.00	2024-04-01 12:00:00+08
B-2	3	12.00	23.40	2024-04-01 12:30:00+08
\.

INSERT INTO public.bet_slip (slip_no, player_id, amount, prize, placed_at) VALUES ('B-3', 2, 10.00, NULL, '2024-04-02 09:00:00+08');

--
-- PostgreSQL database dump complete
--
