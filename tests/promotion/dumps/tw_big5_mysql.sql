-- Source note: a platform run from Taiwan (繁體中文 comments, Big5 file, 儲值 for deposits, 上線 for
-- the upline); the test encodes this file in Big5 (cp950).
/*!40101 SET NAMES big5 */;
CREATE TABLE `member` (
  `mid` int(11) NOT NULL COMMENT '會員編號',
  `up_mid` int(11) DEFAULT NULL COMMENT '上線會員編號',
  `acc` varchar(32) NOT NULL COMMENT '會員帳號',
  `tel` varchar(20) DEFAULT NULL COMMENT '手機號碼',
  `bank_no` varchar(32) DEFAULT NULL COMMENT '銀行帳號',
  PRIMARY KEY (`mid`)
) ENGINE=MyISAM DEFAULT CHARSET=big5 COMMENT='會員資料';
INSERT INTO `member` VALUES (501,NULL,'總代理','0912345678','0001234567890'),(502,501,'會員甲',NULL,NULL),(503,502,'會員乙',NULL,NULL);
CREATE TABLE `bet_log` (
  `sn` varchar(20) NOT NULL COMMENT '注單編號',
  `mid` int(11) NOT NULL COMMENT '會員編號',
  `gold` decimal(12,2) NOT NULL COMMENT '下注金額',
  `win_gold` decimal(12,2) DEFAULT NULL COMMENT '派彩金額',
  `bet_at` datetime NOT NULL COMMENT '下注時間',
  PRIMARY KEY (`sn`)
) ENGINE=MyISAM DEFAULT CHARSET=big5 COMMENT='注單紀錄';
INSERT INTO `bet_log` VALUES ('T1',503,600.00,0.00,'2024-03-01 22:00:00'),('T2',503,400.00,780.00,'2024-03-01 22:05:00');
CREATE TABLE `store_value` (
  `sn` varchar(20) NOT NULL COMMENT '訂單編號',
  `mid` int(11) NOT NULL COMMENT '會員編號',
  `gold` decimal(12,2) NOT NULL COMMENT '儲值金額',
  `state` varchar(8) DEFAULT NULL COMMENT '狀態',
  `at` datetime NOT NULL COMMENT '儲值時間',
  PRIMARY KEY (`sn`)
) ENGINE=MyISAM DEFAULT CHARSET=big5 COMMENT='儲值紀錄';
INSERT INTO `store_value` VALUES ('S1',503,1000.00,'成功','2024-03-01 21:00:00');
