-- Source note: SQL written by a platform's own admin tool ("数据备份" page of a PHP back office),
-- not by mysqldump: it creates and selects its own database, writes rows with INSERT ... SET and
-- with expressions the server evaluates. Too irregular for a literal-only parser; MariaDB reads it.
CREATE DATABASE IF NOT EXISTS `cb_test_platform_should_not_exist` DEFAULT CHARACTER SET utf8mb4;
USE `cb_test_platform_should_not_exist`;
SET NAMES utf8mb4;

CREATE TABLE `ly_member` (
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `parent_uid` int(11) NOT NULL DEFAULT '0' COMMENT '上级ID',
  `nick` varchar(32) DEFAULT NULL COMMENT '昵称',
  PRIMARY KEY (`uid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='会员';

INSERT INTO `ly_member` SET `uid`=1, `parent_uid`=0, `nick`='总代';
INSERT INTO `ly_member` SET `uid`=2, `parent_uid`=1, `nick`=CONCAT('代理', '02');
INSERT INTO `ly_member` (`uid`, `parent_uid`, `nick`) VALUES (3, 2, 'm3'), (4, 2, 'm4');

CREATE TABLE `ly_bet` (
  `bet_no` varchar(20) NOT NULL COMMENT '注单号',
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `bet_money` decimal(12,2) NOT NULL COMMENT '投注金额',
  `win_money` decimal(12,2) NOT NULL COMMENT '派彩金额',
  `bet_time` datetime NOT NULL COMMENT '投注时间',
  PRIMARY KEY (`bet_no`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='注单';

INSERT INTO `ly_bet` VALUES ('B1', 3, 100.00, 195.00, '2024-05-01 20:00:00');
INSERT INTO `ly_bet` VALUES ('B2', 3, 10*20, 0, DATE_ADD('2024-05-01 20:00:00', INTERVAL 1 HOUR)),
  ('B3', 4, ROUND(33.333, 2), 0, '2024-05-01 22:00:00');
INSERT INTO `ly_bet` SET `bet_no`='B4', `uid`=4, `bet_money`=50, `win_money`=97.5, `bet_time`='2024-05-02 09:00:00';
